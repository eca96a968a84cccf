"""Forecasting: features, the model registry, stored forecasts and /predict/."""
