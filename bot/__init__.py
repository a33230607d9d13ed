"""Treffpunkt: multilingual event notices for migrant organisations."""
