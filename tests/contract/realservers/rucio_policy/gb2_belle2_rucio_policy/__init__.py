"""Belle II naming conventions for the real Rucio server of gb2's contract tests.

Rucio 41.5.1 no longer ships any Belle II specifics in the ``rucio`` wheel: only the
``generic`` schema/permission modules and the ``def``/``dirac`` scope extraction and
``hash``/``identity`` LFN-to-PFN algorithms are built in.  Belle II's own rules live in
an external policy package.  This small package restates the conventions gb2 relies on
(written for gb2, not copied) so that the server behaves like Belle II's:

* ``scope`` algorithm ``belleii``: the scope of an LFN such as
  ``/belle/user/alice/...`` is ``user.alice``; ``/belle/MC/release-...`` is ``mc``; ...
  (see :mod:`.algorithms`).  Rucio uses it wherever it derives a scope from a name
  itself, e.g. ``POST /dirac/addfiles``.
* ``lfn2pfn`` algorithm ``belleii``: the path of a replica under an RSE's prefix is the
  LFN itself (``<prefix>/belle/user/alice/...``), as on Belle II storage.
* ``permission``: like Rucio's generic policy, except that ordinary accounts may
  register replicas on user-writable ``*TMP*`` RSEs (Belle II lets users write to its
  ``*-TMP-SE`` storage only).  Scope ownership is still enforced by the generic rules.

The generic schema of 41.5.1 already accepts names that are absolute paths
(``^[/A-Za-z0-9][/A-Za-z0-9.\\-_]*$``, 250 characters at most), so no schema module is
needed; Rucio falls back to the generic one.

Enabled in ``rucio.cfg`` with ``[policy] package = gb2_belle2_rucio_policy``,
``extract_scope = belleii`` and ``lfn2pfn_algorithm_default = belleii``, with this
directory's parent on the server's ``PYTHONPATH``.
"""

SUPPORTED_VERSION = [">=41.0.0", "<42.0.0"]


def get_algorithms():
    """Algorithms registered with Rucio when the package is loaded."""
    from gb2_belle2_rucio_policy.algorithms import belle2_lfn2pfn, belle2_scope

    return {
        "scope": {"belleii": belle2_scope},
        "lfn2pfn": {"belleii": belle2_lfn2pfn},
    }
