"""ipywidgets builders: each returns a widget whose callbacks are plain functions, testable
without a kernel (one module per lesson topic)."""
