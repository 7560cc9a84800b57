"""Onboarding's rules (issue 6): developers and platform operators, business applications
(PayBill or Till) with their documents, and Lipa na M-Pesa Online applications.

Pure Python: the storage layer keeps what these modules decide, `core.onboarding` runs them.
"""
