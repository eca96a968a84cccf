"""The whole admin on django-unfold: one module per thing staff look at."""
