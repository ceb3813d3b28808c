"""Default config: the keys and values of upstream Dassl minus its DA/DG/SSL trainer nodes.

One addition: OPTIM.EPS, the epsilon of the Adam family (SEP's configs set it).
"""

from yacs.config import CfgNode as CN

_C = CN()
_C.VERSION = 1
_C.OUTPUT_DIR = "./output"  # log.txt, checkpoints and tensorboard files go here
_C.RESUME = ""  # directory of a previous run to resume from
_C.SEED = -1  # negative: do not fix the seed
_C.USE_CUDA = True
_C.VERBOSE = True  # print trainer/dataset details

# Input
_C.INPUT = CN()
_C.INPUT.SIZE = (224, 224)
_C.INPUT.INTERPOLATION = "bilinear"  # bilinear, bicubic or nearest
_C.INPUT.TRANSFORMS = ()  # names understood by dassl.data.transforms.build_transform
_C.INPUT.NO_TRANSFORM = False  # True: no train/test transforms are built
_C.INPUT.PIXEL_MEAN = [0.485, 0.456, 0.406]  # ImageNet mean
_C.INPUT.PIXEL_STD = [0.229, 0.224, 0.225]  # ImageNet std
_C.INPUT.CROP_PADDING = 4  # random_crop padding
_C.INPUT.RRCROP_SCALE = (0.08, 1.0)  # random_resized_crop area range
_C.INPUT.CUTOUT_N = 1  # cutout: number of holes
_C.INPUT.CUTOUT_LEN = 16  # cutout: hole side
_C.INPUT.GN_MEAN = 0.0  # gaussian noise mean
_C.INPUT.GN_STD = 0.15  # gaussian noise std
_C.INPUT.RANDAUGMENT_N = 2  # RandAugment: number of ops
_C.INPUT.RANDAUGMENT_M = 10  # RandAugment: magnitude
_C.INPUT.COLORJITTER_B = 0.4  # brightness
_C.INPUT.COLORJITTER_C = 0.4  # contrast
_C.INPUT.COLORJITTER_S = 0.4  # saturation
_C.INPUT.COLORJITTER_H = 0.1  # hue
_C.INPUT.RGS_P = 0.2  # random gray scale probability
_C.INPUT.GB_P = 0.5  # gaussian blur probability
_C.INPUT.GB_K = 21  # gaussian blur kernel size (odd)

# Dataset
_C.DATASET = CN()
_C.DATASET.ROOT = ""  # folder holding all datasets
_C.DATASET.NAME = ""  # name in DATASET_REGISTRY
_C.DATASET.SOURCE_DOMAINS = ()
_C.DATASET.TARGET_DOMAINS = ()
_C.DATASET.NUM_LABELED = -1  # labelled instances in total (semi-supervised datasets)
_C.DATASET.NUM_SHOTS = -1  # images per class; -1 keeps all
_C.DATASET.VAL_PERCENT = 0.1  # validation share (semi-supervised datasets)
_C.DATASET.STL10_FOLD = -1  # STL-10 fold, negative: none
_C.DATASET.CIFAR_C_TYPE = ""  # CIFAR-C corruption type
_C.DATASET.CIFAR_C_LEVEL = 1  # CIFAR-C corruption level
_C.DATASET.ALL_AS_UNLABELED = False  # use all data as unlabelled too

# Data loaders
_C.DATALOADER = CN()
_C.DATALOADER.NUM_WORKERS = 4
_C.DATALOADER.K_TRANSFORMS = 1  # augmented views per training image
_C.DATALOADER.RETURN_IMG0 = False  # also return the un-augmented image as img0
_C.DATALOADER.TRAIN_X = CN()
_C.DATALOADER.TRAIN_X.SAMPLER = "RandomSampler"
_C.DATALOADER.TRAIN_X.BATCH_SIZE = 32
_C.DATALOADER.TRAIN_X.N_DOMAIN = 0  # RandomDomainSampler: domains per batch (0: all)
_C.DATALOADER.TRAIN_X.N_INS = 16  # RandomClassSampler: instances per class
_C.DATALOADER.TRAIN_U = CN()
_C.DATALOADER.TRAIN_U.SAME_AS_X = True  # reuse the TRAIN_X settings for train_u
_C.DATALOADER.TRAIN_U.SAMPLER = "RandomSampler"
_C.DATALOADER.TRAIN_U.BATCH_SIZE = 32
_C.DATALOADER.TRAIN_U.N_DOMAIN = 0
_C.DATALOADER.TRAIN_U.N_INS = 16
_C.DATALOADER.TEST = CN()
_C.DATALOADER.TEST.SAMPLER = "SequentialSampler"
_C.DATALOADER.TEST.BATCH_SIZE = 32

# Model
_C.MODEL = CN()
_C.MODEL.INIT_WEIGHTS = ""  # path of weights to initialise from
_C.MODEL.BACKBONE = CN()
_C.MODEL.BACKBONE.NAME = ""
_C.MODEL.BACKBONE.PRETRAINED = True
_C.MODEL.HEAD = CN()
_C.MODEL.HEAD.NAME = ""  # empty: no embedding head
_C.MODEL.HEAD.HIDDEN_LAYERS = ()  # e.g. [512, 512]
_C.MODEL.HEAD.ACTIVATION = "relu"
_C.MODEL.HEAD.BN = True
_C.MODEL.HEAD.DROPOUT = 0.0

# Optimisation
_C.OPTIM = CN()
_C.OPTIM.NAME = "adam"  # adam, amsgrad, sgd, rmsprop, radam or adamw
_C.OPTIM.LR = 0.0003
_C.OPTIM.WEIGHT_DECAY = 5e-4
_C.OPTIM.MOMENTUM = 0.9  # sgd and rmsprop
_C.OPTIM.SGD_DAMPNING = 0
_C.OPTIM.SGD_NESTEROV = False
_C.OPTIM.RMSPROP_ALPHA = 0.99
_C.OPTIM.ADAM_BETA1 = 0.9  # whole Adam family
_C.OPTIM.ADAM_BETA2 = 0.999
_C.OPTIM.EPS = 1e-8  # Adam family epsilon (not in upstream Dassl)
_C.OPTIM.STAGED_LR = False  # NEW_LAYERS at LR, the rest at LR * BASE_LR_MULT
_C.OPTIM.NEW_LAYERS = ()
_C.OPTIM.BASE_LR_MULT = 0.1
_C.OPTIM.LR_SCHEDULER = "single_step"  # single_step, multi_step or cosine
_C.OPTIM.STEPSIZE = (-1,)  # -1 or 0: MAX_EPOCH
_C.OPTIM.GAMMA = 0.1
_C.OPTIM.MAX_EPOCH = 10
_C.OPTIM.WARMUP_EPOCH = -1  # > 0 turns warm-up on
_C.OPTIM.WARMUP_TYPE = "linear"  # linear or constant
_C.OPTIM.WARMUP_CONS_LR = 1e-5  # lr of constant warm-up
_C.OPTIM.WARMUP_MIN_LR = 1e-5  # starting lr of linear warm-up
_C.OPTIM.WARMUP_RECOUNT = True  # successor restarts at epoch 0 (else at WARMUP_EPOCH)

# Training loop
_C.TRAIN = CN()
_C.TRAIN.CHECKPOINT_FREQ = 0  # save every N epochs; <= 0: only the last
_C.TRAIN.PRINT_FREQ = 10  # print every N batches
_C.TRAIN.COUNT_ITER = "train_x"  # loader that sets the iterations per epoch

# Testing
_C.TEST = CN()
_C.TEST.EVALUATOR = "Classification"
_C.TEST.PER_CLASS_RESULT = False
_C.TEST.COMPUTE_CMAT = False  # confusion matrix saved to OUTPUT_DIR/cmat.pt
_C.TEST.NO_TEST = False  # skip the final test
_C.TEST.SPLIT = "test"  # split for the final evaluation: test or val
_C.TEST.FINAL_MODEL = "last_step"  # last_step or best_val (evaluates every epoch)

# Trainer
_C.TRAINER = CN()
_C.TRAINER.NAME = ""
