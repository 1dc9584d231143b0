"""Every sentence a person reads from ShopWatch, by feature.

Kept apart from the code so the wording can be reviewed by a scheme (plain
English, short, readable on a phone with one hand) and later translated without
hunting through handlers. A feature's words live in its own module here
(`alerts`, `membership`, `search` ...); words many features share live in
`common`, refusals in `refusals`, money and moments in `formats`. Functions take
plain values, so these modules stay free of Telegram and of the log.
"""
