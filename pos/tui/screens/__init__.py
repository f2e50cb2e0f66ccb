"""The checkout app's screens, one module each."""
