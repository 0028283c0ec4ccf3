// The page script: filled in by the page issue.
