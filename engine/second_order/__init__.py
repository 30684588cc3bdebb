"""Second-order tools: where MAML's meta-gradient differs from its first-order part, and by how much.

- ``directions``: the update directions from a θ (MAML, first-order MAML, Reptile) as plain numbers;
- ``quadratic``: quadratic worlds, L(θ) = ½ (θ − c)ᵀ A (θ − c), where every answer has a closed form;
- ``quadratic_spec``: reading such a world from JSON, each malformed field named;
- ``sine_world``: y = a·sin(x + b) tasks fitted by a two-parameter model (amplitude, phase);
- ``decomposition``: the same split for a real ``Maml`` network, with Hessian-vector products.
"""
