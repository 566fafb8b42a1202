terraform import keyward_key.weights 3f1c6a0e-6a52-4f53-9a1c-2b7c5d0e8f11
