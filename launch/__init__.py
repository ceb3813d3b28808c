"""What train.py does before a run that needs the datasets and the model pieces (above run/)."""
