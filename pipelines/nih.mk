# SPDX-License-Identifier: Apache-2.0
# NIH ChestX-ray14: the data preparation of `make nih-dpa` (spec
# baselines-data.md 3.5, 4.6, 4.7, 5; dpa-piad.md 9.2).
#
#   make nih-streams NIH=/data/nih VIEW=PA     # resize, split, select the streams
#   make nih-demo-data                         # a small synthetic NIH download
#   make nih-demo                              # nih-streams on it, under $(WORK)/demo
#
# NIH is the folder of the NIH download: Data_Entry_2017.csv,
# train_val_list.txt, test_list.txt and the PNGs in images/ (the unpacked
# images_001..012.tar.gz), in images_001..012/images/ (the Kaggle copy), or
# flat. VIEW is AP, PA or subset. Stages, each one tool run whose target
# appears only when it succeeds:
#   $(WORK)/nih/nih_300/      every image at 300x300 grey (nih-resize; the
#                             .ok stamp beside it marks a complete run; a
#                             rerun resumes)
#   $(WORK)/nih/split/{AP,PA}/{normal/train,normal/test,anomaly/test}
#                             the view lists (mkfolds nih-split); the subset
#                             lists come from $(SPLITS)/train_test_split/nih/subset
#   $(WORK)/nih/$(VIEW)/train.ts                 normal training images, label 0
#   $(WORK)/nih/$(VIEW)/test_{normal,anomaly}.ts the test images, label 0 / 1
#   $(WORK)/nih/$(VIEW)/test.ts                  both, normal first
# The streams hold the 300x300 images; the paper's crop 224 (or 300),
# [equalize] and resize 64 are applied by the trainer (transform.h).
# Training and scoring (ad-train, ad-score) are not part of this file.

NIH ?=
VIEW ?= PA
WORK ?= work
SPLITS ?= $(firstword $(wildcard ../shared/folds))
NIH_JOBS ?= $(shell nproc)

NIH_300 := $(WORK)/nih/nih_300
NIH_SPLIT := $(WORK)/nih/split
NIH_OUT = $(WORK)/nih/$(VIEW)
NIH_TRAIN_TS = $(NIH_OUT)/train.ts
NIH_TEST_TS = $(NIH_OUT)/test.ts
NIH_LISTS = $(if $(filter subset,$(VIEW)),$(SPLITS)/train_test_split/nih/subset,$(NIH_SPLIT)/$(VIEW))
NIH_FILES := Data_Entry_2017.csv train_val_list.txt test_list.txt
NIH_DEMO := $(WORK)/nih-demo

.PHONY: nih-streams nih-preprocess nih-splits nih-data-check nih-demo-data nih-demo

nih-streams: $(NIH_TRAIN_TS) $(NIH_TEST_TS)
nih-preprocess: $(NIH_300).ok
nih-splits: $(NIH_LISTS)/normal/train

ifneq ($(filter nih-%,$(MAKECMDGOALS)),)
ifeq ($(filter AP PA subset,$(VIEW)),)
$(error nih: VIEW must be AP, PA or subset, not '$(VIEW)')
endif
endif

# The check run before a stage reads the download: it stops with what to
# download and where to put it.
define NIH_CHECK
missing=""; for f in $(NIH_FILES); do [ -f "$(NIH)/$$f" ] || missing="$$missing $$f"; done; \
if [ -z "$(NIH)" ] || [ -n "$$missing" ]; then \
  echo "nih: no NIH ChestX-ray14 data in NIH='$(NIH)'$${missing:+ (missing:$$missing)}." >&2; \
  echo "  Download https://nihcc.app.box.com/v/ChestXray-NIHCC: Data_Entry_2017.csv, train_val_list.txt," >&2; \
  echo "  test_list.txt and images_001.tar.gz .. images_012.tar.gz (42 GB); unpack the tarballs in one" >&2; \
  echo "  folder (they create images/) beside the three files, then: make nih-streams NIH=that/folder" >&2; \
  echo "  To try the pipeline without it: make nih-demo" >&2; \
  exit 1; fi
endef

nih-data-check:
	@$(NIH_CHECK)

# 112,120 images, resumable: outputs already there are kept.
$(NIH_300).ok: | bin/nih-resize
	@$(NIH_CHECK)
	@mkdir -p $(@D)
	bin/nih-resize --data-entry $(NIH)/Data_Entry_2017.csv --root $(NIH) -o $(NIH_300) -j $(NIH_JOBS) --progress
	@touch $@

$(NIH_SPLIT)/AP/normal/train $(NIH_SPLIT)/PA/normal/train: | bin/mkfolds
	@$(NIH_CHECK)
	bin/mkfolds nih-split --data-entry $(NIH)/Data_Entry_2017.csv --train-val-list $(NIH)/train_val_list.txt \
	  --test-list $(NIH)/test_list.txt -o $(NIH_SPLIT)

# The subset's lists are not derived from Data_Entry (spec baselines-data.md 5).
$(SPLITS)/train_test_split/nih/subset/normal/train:
	@echo "nih: VIEW=subset needs the paper's lists: SPLITS=<folds folder> holding" >&2
	@echo "  train_test_split/nih/subset/{normal/train,normal/test,anomaly/test} (now SPLITS='$(SPLITS)')" >&2
	@exit 1

$(NIH_OUT)/train.ts: $(NIH_300).ok $(NIH_LISTS)/normal/train | bin/img2stream
	@mkdir -p $(@D)
	bin/img2stream --list $(NIH_LISTS)/normal/train --root $(NIH_300) --label 0 -j $(NIH_JOBS) -o $@

$(NIH_OUT)/test_normal.ts: $(NIH_300).ok $(NIH_LISTS)/normal/train | bin/img2stream
	@mkdir -p $(@D)
	bin/img2stream --list $(NIH_LISTS)/normal/test --root $(NIH_300) --label 0 -j $(NIH_JOBS) -o $@

$(NIH_OUT)/test_anomaly.ts: $(NIH_300).ok $(NIH_LISTS)/normal/train | bin/img2stream
	@mkdir -p $(@D)
	bin/img2stream --list $(NIH_LISTS)/anomaly/test --root $(NIH_300) --label 1 -j $(NIH_JOBS) -o $@

# Streams concatenate; the temporary name keeps a failed copy from counting.
$(NIH_OUT)/test.ts: $(NIH_OUT)/test_normal.ts $(NIH_OUT)/test_anomaly.ts
	cat $^ > $@.tmp && mv $@.tmp $@

# A synthetic download (300 images of 256x256, both views, a few 16-bit and
# RGBA files), to try the pipeline; Data_Entry_2017.csv is written last.
nih-demo-data: $(NIH_DEMO)/Data_Entry_2017.csv
$(NIH_DEMO)/Data_Entry_2017.csv: | build/gen/gen-nih
	build/gen/gen-nih -o $(NIH_DEMO) --count 300 --size 256 --seed 1

nih-demo: nih-demo-data
	$(MAKE) --no-print-directory nih-streams NIH=$(NIH_DEMO) WORK=$(WORK)/demo VIEW=$(if $(filter subset,$(VIEW)),PA,$(VIEW))
