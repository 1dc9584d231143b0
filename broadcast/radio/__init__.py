"""The radio bridge: the scheme's radio channel and its chat as one network.

Importing this package is cheap and needs none of the `shopwatch[radio]` extra;
the Mumble client and the speech engines are imported only when a scheme turns
its radio on, so a deployment without radio never pays for them.
"""
