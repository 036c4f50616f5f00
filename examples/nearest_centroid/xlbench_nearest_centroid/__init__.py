"""The nearest_centroid method plugin for xlbench: SimpleShot (Wang et al. 2019) on
frozen source-trained unit features (see method.py)."""
