"""``modularAnalysis`` (stand-in): the common analysis helpers, adding stand-in modules.

Signatures follow basf2's modularAnalysis (release-06 and later); only the
decay strings, cuts and variables documented in ``gb2.standin.decaystring``,
``gb2.standin.cuts`` and ``gb2.standin.variables`` are supported.
"""

from __future__ import annotations

from basf2 import B2FATAL, B2INFO, Path, create_path, register_module

from gb2.standin.decaystring import parse as _parse

_ENVIRONMENTS = ("default", "None")


def inputMdst(
    filename: str,
    path: Path,
    environmentType: str = "default",
    skipNEvents: int = 0,
    entrySequence: str | None = None,
    *,
    parentLevel: int = 0,
    **kwargs,
) -> None:
    """Read one mdst/udst file with RootInput (``-i`` on the command line replaces it)."""
    entrySequences = [entrySequence] if entrySequence is not None else None
    inputMdstList(
        [filename],
        path,
        environmentType,
        skipNEvents,
        entrySequences,
        parentLevel=parentLevel,
        **kwargs,
    )


def inputMdstList(
    filelist: list[str],
    path: Path,
    environmentType: str = "default",
    skipNEvents: int = 0,
    entrySequences: list[str] | None = None,
    *,
    parentLevel: int = 0,
    **kwargs,
) -> None:
    """Read mdst/udst files in order with RootInput (``-i`` on the command line replaces them)."""
    if environmentType not in _ENVIRONMENTS:
        B2FATAL(
            f"Incorrect environment type provided: {environmentType}! gb2's basf2 stand-in "
            f"supports: {' '.join(_ENVIRONMENTS)}"
        )
    if environmentType == "None":
        B2INFO(
            "No magnetic field is loaded. This is OK, if generator level information only is studied."
        )
    roinput = register_module("RootInput")
    roinput.param("inputFileNames", list(filelist))
    roinput.param("skipNEvents", skipNEvents)
    if entrySequences is not None:
        roinput.param("entrySequences", entrySequences)
    roinput.param("parentLevel", parentLevel)
    if kwargs:
        roinput.param(kwargs)
    path.add_module(roinput)
    path.add_module("ProgressBar")


def outputMdst(filename: str, path: Path) -> None:
    import mdst

    mdst.add_mdst_output(path, mc=True, filename=filename)


def outputUdst(
    filename: str,
    particleLists: list[str] | None = None,
    includeArrays: list[str] | None = None,
    path: Path | None = None,
    dataDescription: dict | None = None,
) -> None:
    import udst

    udst.add_udst_output(
        path=path,
        filename=filename,
        particleLists=particleLists,
        additionalBranches=includeArrays,
        dataDescription=dataDescription,
    )


def setupEventInfo(noEvents: int, path: Path) -> None:
    """EventInfoSetter for ``noEvents`` events of experiment 0, run 0."""
    path.add_module("EventInfoSetter", evtNumList=[noEvents], runList=[0], expList=[0])


def copyLists(
    outputListName: str, inputListNames: list[str], writeOut: bool = False, path: Path | None = None
) -> None:
    pmanipulate = register_module("ParticleListManipulator")
    pmanipulate.set_name("PListMerger_" + outputListName)
    pmanipulate.param("outputListName", outputListName)
    pmanipulate.param("inputListNames", list(inputListNames))
    pmanipulate.param("writeOut", writeOut)
    path.add_module(pmanipulate)


def copyList(
    outputListName: str, inputListName: str, writeOut: bool = False, path: Path | None = None
) -> None:
    copyLists(outputListName, [inputListName], writeOut, path)


def fillParticleList(
    decayString: str,
    cut: str,
    writeOut: bool = False,
    path: Path | None = None,
    enforceFitHypothesis: bool = False,
    loadPhotonsFromKLM: bool = False,
    loadPhotonBeamBackgroundMVA: bool = False,
    loadFakePhotonMVA: bool = False,
) -> None:
    """Fill a list of final-state particles (tracks or photons), then apply ``cut``."""
    if loadPhotonBeamBackgroundMVA or loadFakePhotonMVA:
        B2FATAL("photon MVAs are not supported by gb2's basf2 stand-in")
    _load_particles(decayString, cut, "all", writeOut, path,
                    enforceFitHypothesis=enforceFitHypothesis, loadPhotonsFromKLM=loadPhotonsFromKLM)  # fmt: skip


def fillParticleLists(
    decayStringsWithCuts: list[tuple[str, str]],
    writeOut: bool = False,
    path: Path | None = None,
    enforceFitHypothesis: bool = False,
    **kwargs,
) -> None:
    for decayString, cut in decayStringsWithCuts:
        fillParticleList(decayString, cut, writeOut, path, enforceFitHypothesis, **kwargs)


def fillParticleListFromMC(
    decayString: str,
    cut: str,
    addDaughters: bool = False,
    skipNonPrimaryDaughters: bool = False,
    writeOut: bool = False,
    path: Path | None = None,
) -> None:
    """Fill a list from generated (MC) particles, then apply ``cut``."""
    _load_particles(decayString, cut, "MC", writeOut, path, addDaughters=addDaughters,
                    skipNonPrimaryDaughters=skipNonPrimaryDaughters, useMCParticles=True)  # fmt: skip


def _load_particles(decayString: str, cut: str, base_label: str, writeOut: bool, path: Path | None,
                    **params: object) -> None:  # fmt: skip
    """What basf2's loaders do: a ParticleLoader fills ``<particle>:<base_label>``; a list
    with another label is copied from it, then ``cut`` is applied."""
    pload = register_module("ParticleLoader")
    pload.set_name("ParticleLoader_" + decayString)
    pload.param("decayStrings", [decayString])
    pload.param("writeOut", writeOut)
    for name, value in params.items():
        pload.param(name, value)
    path.add_module(pload)
    mother = _parse(decayString).mother
    if mother.label != base_label:
        copyList(mother.full, f"{mother.particle}:{base_label}", writeOut, path)
    if cut != "":
        applyCuts(mother.full, cut, path)


def applyCuts(list_name: str, cut: str, path: Path) -> None:
    """Remove candidates that fail ``cut`` from ``list_name``."""
    pselect = register_module("ParticleSelector")
    pselect.set_name("ParticleSelector_applyCuts_" + list_name)
    pselect.param("decayString", list_name)
    pselect.param("cut", cut)
    path.add_module(pselect)


def applyEventCuts(cut: str, path: Path, metavariables: list[str] | None = None) -> None:
    """Skip the rest of the path for events that fail ``cut``."""
    eselect = path.add_module("VariableToReturnValue", variable="passesEventCut(" + cut + ")")
    eselect.if_value("<1", create_path())


def reconstructDecay(
    decayString: str,
    cut: str,
    dmID: int = 0,
    writeOut: bool = False,
    path: Path | None = None,
    candidate_limit: int | None = None,
    ignoreIfTooManyCandidates: bool = True,
    chargeConjugation: bool = True,
    allowChargeViolation: bool = False,
) -> None:
    """Combine daughter lists into mother candidates passing ``cut``."""
    pmake = register_module("ParticleCombiner")
    pmake.set_name("ParticleCombiner_" + decayString)
    pmake.param("decayString", decayString)
    pmake.param("cut", cut)
    pmake.param("decayMode", dmID)
    pmake.param("writeOut", writeOut)
    if candidate_limit is not None:
        pmake.param("maximumNumberOfCandidates", candidate_limit)
    pmake.param("ignoreIfTooManyCandidates", ignoreIfTooManyCandidates)
    pmake.param("chargeConjugation", chargeConjugation)
    pmake.param("allowChargeViolation", allowChargeViolation)
    path.add_module(pmake)


def matchMCTruth(list_name: str, path: Path) -> None:
    """MC matching of ``list_name`` (needed for ``isSignal`` and ``mcPDG``)."""
    mcMatch = register_module("MCMatcherParticles")
    mcMatch.set_name("MCMatch_" + list_name)
    mcMatch.param("listName", list_name)
    path.add_module(mcMatch)


def removeParticlesNotInLists(lists_to_keep: list[str], path: Path) -> None:
    mod = register_module("RemoveParticlesNotInLists")
    mod.param("particleLists", list(lists_to_keep))
    path.add_module(mod)


def variablesToNtuple(
    decayString: str,
    variables: list[str],
    treename: str = "variables",
    filename: str = "ntuple.root",
    path: Path | None = None,
    basketsize: int = 1600,
    signalSideParticleList: str = "",
    filenameSuffix: str = "",
    useFloat: bool = False,
    storeEventType: bool = True,
) -> None:
    """One ntuple row per candidate of ``decayString`` (per event if it is empty)."""
    output = register_module("VariablesToNtuple")
    output.set_name("VariablesToNtuple_" + decayString)
    output.param("particleList", decayString)
    output.param("variables", list(variables))
    output.param("fileName", filename)
    output.param("treeName", treename)
    output.param("basketSize", basketsize)
    output.param("signalSideParticleList", signalSideParticleList)
    output.param("fileNameSuffix", filenameSuffix)
    output.param("useFloat", useFloat)
    output.param("storeEventType", storeEventType)
    path.add_module(output)
