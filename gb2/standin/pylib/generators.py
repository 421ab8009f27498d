"""``generators`` (stand-in): event generators for MC production jobs.

The stand-in's generator modules produce :mod:`gb2.standin.synth` physics; the
file names passed here (as basf2's helpers pass them) select which.
"""

from __future__ import annotations

from basf2 import B2FATAL, Path


def add_evtgen_generator(
    path: Path,
    finalstate: str = "",
    signaldecfile: str | None = None,
    coherentMixing: bool = True,
    parentParticle: str = "Upsilon(4S)",
):
    """Upsilon(4S) -> B Bbar events: ``finalstate`` 'charged', 'mixed' or 'signal' (with a decay file)."""
    if finalstate == "charged":
        decfile = "data/generators/evtgen/charged.dec"
    elif finalstate == "mixed":
        decfile = "data/generators/evtgen/mixed.dec"
    elif finalstate == "signal":
        if not signaldecfile:
            B2FATAL("add_evtgen_generator: a signal decay file is needed for finalstate 'signal'")
        decfile = signaldecfile
    else:
        B2FATAL(f"add_evtgen_generator final state not supported: {finalstate}")
    return path.add_module(
        "EvtGenInput",
        userDECFile=decfile,
        CoherentMixing=coherentMixing,
        ParentParticle=parentParticle,
    )


def add_continuum_generator(
    path: Path,
    finalstate: str,
    userdecfile: str = "",
    useevtgenparticledata: int = 0,
    *,
    skip_on_failure: bool = True,
):
    """Continuum e+e- -> q qbar events: ``finalstate`` 'uubar', 'ddbar', 'ssbar' or 'ccbar'."""
    if finalstate not in ("uubar", "ddbar", "ssbar", "ccbar"):
        B2FATAL(f"add_continuum_generator final state not supported: {finalstate}")
    return path.add_module(
        "KKGenInput",
        tauinputFile=f"data/generators/kkmc/{finalstate}_nohadronization.input.dat",
        KKdefaultFile="data/generators/kkmc/KK2f_defaults.dat",
        taudecaytableFile="",
        kkmcoutputfilename=f"kkmc_{finalstate}.txt",
    )


def add_kkmc_generator(
    path: Path,
    finalstate: str = "",
    signalconfigfile: str = "",
    useTauolaBelle: bool = False,
    tauinputfile: str = "",
):
    """KKMC lepton pairs: the stand-in supports 'tau+tau-'."""
    if finalstate != "tau+tau-":
        B2FATAL(
            f"add_kkmc_generator final state not supported by gb2's basf2 stand-in: {finalstate}"
        )
    return path.add_module(
        "KKGenInput",
        tauinputFile="data/generators/kkmc/tau.input.dat",
        KKdefaultFile="data/generators/kkmc/KK2f_defaults.dat",
        taudecaytableFile="data/generators/kkmc/tau_decaytable.dat",
        kkmcoutputfilename="kkmc_tautau.txt",
    )
