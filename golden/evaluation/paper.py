"""Figures of Riera, Arnau and González (ISCA 2018) that deja's reports put beside its own.

Numbers are quoted from the paper's text, Table I and Table III
(Riera, Arnau and González, ISCA 2018); figures the paper gives only as bar charts are not
invented here.
"""

PAPER = {
    "average": {"input_similarity": 0.61, "computation_reuse": 0.66, "speedup": 3.5,
                "energy_savings": 0.63},
    "Kaldi": {"kind": "MLP, acoustic scoring", "speedup": 1.9,
              "computation_reuse": {"FC3": 0.75, "FC4": 0.66, "FC5": 0.56, "FC6": 0.66},
              "int8": {"input_similarity": 0.52, "computation_reuse": 0.58, "speedup": 1.8,
                       "energy_savings": 0.45},
              "io_buffer_kb": (27, 66), "main_memory_mb": (18, 18)},
    "EESEN": {"kind": "RNN (BiLSTM), speech recognition",
              "computation_reuse": {"BiLSTM1": 0.38, "BiLSTM2": 0.53, "BiLSTM3": 0.56,
                                    "BiLSTM4": 0.59, "BiLSTM5": 0.60},
              "io_buffer_kb": (8, 13), "main_memory_mb": (42, 42)},
    "AutoPilot": {"kind": "CNN, self-driving", "speedup": 5.2,
                  "computation_reuse": {"CONV1": 0.46, "CONV2": 0.84, "CONV3": 0.93, "CONV4": 0.94,
                                        "CONV5": 0.88, "FC1": 0.89, "FC2": 0.97, "FC3": 0.95,
                                        "FC4": 0.82},
                  "io_buffer_kb": (160, 176), "main_memory_mb": (6.6, 7.2)},
    "C3D": {"kind": "CNN, video classification", "io_buffer_kb": (1152, 1280),
            "main_memory_mb": (397, 443)},
    "area_mm2": (52, 53),
}
