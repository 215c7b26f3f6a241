"""Other machines, reached over ssh: the one home of ssh command lines and the fleet's streams."""
