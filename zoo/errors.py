"""The one exception type for mistakes a user can make: bad config values, bad files, mismatched checkpoints."""


class ZooError(ValueError):
    """A user-facing error whose message names the problem and the fix in one sentence."""
