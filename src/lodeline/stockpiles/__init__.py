"""The confidential stockpile exchange (issue 13): member submissions, statistical disclosure control of what is
published, and coordinated release rules and plans. Pure computation; the store half is ``store/stocks.py``."""
