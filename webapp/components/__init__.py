"""Components shared by the pages: the page shell and GOV.UK-style form parts."""
