"""The scale-down wing: statemachines/scale_down.asl.json runs these handlers."""
