"""One module per architecture; importing this package registers every builder."""

from zoo.models import last_state
