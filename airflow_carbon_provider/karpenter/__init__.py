"""Karpenter NodePool change model, restore state and CRD validation (no Airflow import)."""
