"""The weights shipped with singan-studio, installed as the package ``singan_studio.checkpoints``:
``demo/`` holds the demo pyramids, ``restoration/`` the restoration networks. See ``singan_studio.assets``."""
