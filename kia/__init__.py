"""KIA – incident reporting and case handling for Swedish municipal schools."""
