"""The scale-up wing: statemachines/scale_up.asl.json runs these handlers."""
