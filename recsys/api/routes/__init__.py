"""One router per resource of the ad API; :mod:`recsys.api.app` includes them all."""
