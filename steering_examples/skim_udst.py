#!/usr/bin/env python3
"""Skim to uDST: keep only events with a J/psi -> l+ l- candidate, written to ``skim.udst.root``.

Builds electron and muon lists, combines them into J/psi candidates in a wide
mass window, and writes the events that have at least one candidate (and only
those) as a uDST with the candidate lists, like an analysis skim.

Run locally:   basf2 skim_udst.py -i my.mdst.root
Submit (grid): gbasf2 skim_udst.py -p jpsi_skim_260101 -s light-2409-toyger \
                   -i /belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025676/s00/e1003/4S/r00000/charged/mdst
"""

import basf2 as b2
import modularAnalysis as ma
import udst

main = b2.create_path()

# Input: replaced by gbasf2 with the files of the input dataset.
ma.inputMdstList(filelist=["mdst.root"], path=main)

ma.fillParticleList("e+:skim", "p > 0.5 and electronID > 0.5", path=main)
ma.fillParticleList("mu+:skim", "p > 0.5 and muonID > 0.5", path=main)
ma.reconstructDecay("J/psi:ee -> e+:skim e-:skim", "2.8 < M < 3.3", path=main)
ma.reconstructDecay("J/psi:mumu -> mu+:skim mu-:skim", "2.8 < M < 3.3", path=main)

# Events with a candidate in either list go to the uDST; all others are dropped.
udst.add_skimmed_udst_output(
    main,
    skimDecayMode="JpsiLL",
    skimParticleLists=["J/psi:ee", "J/psi:mumu"],
    outputFile="skim.udst.root",
)

b2.process(main)
print(b2.statistics)
