"""Environment doctor: pure checks over gathered facts and isolated probe results."""
