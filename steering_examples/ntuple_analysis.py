#!/usr/bin/env python3
"""Ntuple analysis over mdst: K_S0 -> pi+ pi- candidates written to ``ntuple.root``.

Reads mdst files, makes pion lists, combines opposite-charge pions into K_S0
candidates near the K_S0 mass, MC-matches them, and stores one row per
candidate (mass, momentum, daughter momenta, isSignal) in the tree "kshort".

Run locally:   basf2 ntuple_analysis.py -i my.mdst.root
Submit (grid): gbasf2 ntuple_analysis.py -p ks_ntuple_260101 -s light-2409-toyger \
                   -i /belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025676/s00/e1003/4S/r00000/uubar/mdst

On the grid the input file list below is replaced by the dataset's files (basf2 -i).
"""

import basf2 as b2
import modularAnalysis as ma

main = b2.create_path()

# Input: replaced by gbasf2 with the files of the input dataset.
ma.inputMdstList(filelist=["mdst.root"], path=main)

# Charged pions from good tracks (the charge-conjugate list pi-:loose is filled too).
ma.fillParticleList("pi+:loose", "p > 0.1 and pionID > 0.1", path=main)

# K_S0 -> pi+ pi- candidates in a mass window around the K_S0 mass.
ma.reconstructDecay("K_S0:pipi -> pi+:loose pi-:loose", "0.45 < M < 0.55", path=main)
ma.matchMCTruth("K_S0:pipi", path=main)

# One row per candidate.
ma.variablesToNtuple(
    "K_S0:pipi",
    variables=["M", "p", "pt", "E", "cosTheta", "isSignal", "daughter(0, p)", "daughter(1, p)"],
    treename="kshort",
    filename="ntuple.root",
    path=main,
)

b2.process(main)
print(b2.statistics)
