"""VIPKID-style real-time labels and help-request triage (LIVE_CLASSROOM_CONTRACT.md section A).

``records`` names the five source topics' messages, ``rules`` computes the three marts from them
in pure Python (the oracle the Flink jobs and dbt models are checked against), ``generator``
writes a day of lessons with every labelled problem, help presses and bad input.
"""
