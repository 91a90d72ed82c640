"""The floor everything stands on: reading a user's files safely, YAML with its lines, numbers
from their text, validation helpers, the one error type, rounding, writing files whole."""
