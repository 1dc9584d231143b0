"""Exports of the log for the police: CSV, XLSX, PDF and JSON, with a manifest.

One module per format; `build.build_export` runs them all. Nothing here knows
about Telegram: the bot, the weekly job and the command line all call in here.
"""
