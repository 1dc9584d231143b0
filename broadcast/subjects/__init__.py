"""People, not just incidents: subjects, galleries and exclusion notices.

`service` is what a scheme does with a subject (authorised and audited), `notices`
the policy of a notice's dates, `matching` the suggestions that a new report may be
a known subject, `galleries` expiry.
"""
