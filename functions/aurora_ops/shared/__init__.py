"""Steps more than one workflow uses; no workflow's wing is imported from here."""
