"""Prediction of genetic values from a fitted model's posterior draws."""

from .genetic_values import predict_breeding_values, predict_genomic_values

__all__ = ["predict_breeding_values", "predict_genomic_values"]
