"""Charts people recognise: Making Data Count SPC charts and funnel plots, from the benchmarking marts."""
