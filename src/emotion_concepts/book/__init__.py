"""The book: running chapters (papermill), their records, the summary of findings, house-style
figures, staging and building (Jupyter Book 1), and the ``emotion-book`` command."""
