"""Payment sources: the contactless reader with its EMV kernel, QR payload parsing and the camera, manual entry."""
