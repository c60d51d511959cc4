# The reference grids of `refine_matches_vegas_adaptive_map` (src/method/vegas/grid.rs):
# vegas.AdaptiveMap refined twice from fixed training points. Run with the venv of bench/README.md.
import numpy as np, vegas
# 1-D map with 8 increments; per-increment training data (increment, |f·J|).
# vegas's training value is (f·J)^2; ours squares f·J, so feed v*v here.
n = 8
data1 = [(0, 1.0), (0, 3.0), (1, 2.0), (2, 0.5), (4, 4.0), (4, 1.0), (4, 2.0), (5, 0.25), (7, 1.5)]  # increment 3 and 6 empty
data2 = [(i, 1.0 + 0.5 * i) for i in range(8)] + [(2, 6.0), (6, 0.125)]
for alpha in (0.5, 1.5):
    m = vegas.AdaptiveMap([[0.0, 1.0]], ninc=n)
    for data in (data1, data2):
        y = np.array([[(i + 0.25) / n] for i, v in data])
        f = np.array([v * v for i, v in data])
        m.add_training_data(y, f)
        m.adapt(alpha=alpha)
        print(alpha, [float(x) for x in m.grid[0]])
