"""The theory lab's experiments: Figures 2, 3a, 3b and 4b, and the theorem checks."""
