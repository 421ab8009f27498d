#!/usr/bin/env python3
"""MC generation: generic B0 anti-B0 events, simulated, reconstructed, written to ``mc.mdst.root``.

An input-less job: EventInfoSetter sets the number of events (run-independent
MC, experiment 1003, run 0), EvtGen generates Upsilon(4S) -> B0 anti-B0
decays, then simulation, reconstruction and mdst output (with MC truth).

Run locally:   basf2 mc_generation.py -n 100
Submit (grid): gbasf2 mc_generation.py -p mixed_mc_260101 -s light-2409-toyger --repetition 10
Each repetition job generates the events below (or -n N via --basf2opt='-n N')
with its own random seed.
"""

import basf2 as b2
import generators as ge
import mdst
import reconstruction as re
import simulation as si

main = b2.create_path()

main.add_module("EventInfoSetter", evtNumList=[100], expList=[1003], runList=[0])
ge.add_evtgen_generator(path=main, finalstate="mixed")
si.add_simulation(path=main)
re.add_reconstruction(path=main)
mdst.add_mdst_output(path=main, mc=True, filename="mc.mdst.root")

b2.process(main)
print(b2.statistics)
