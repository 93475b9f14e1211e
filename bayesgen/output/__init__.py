"""Conversion of sampler output to arviz.InferenceData."""

from .inference_data import to_inference_data

__all__ = ["to_inference_data"]
