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
#
#   make nih-dpa NIH=/data/nih VIEW=AP|PA|subset [EXP=wo_pg|pg]
# then trains DPA with pipelines/configs/nih/$(VIEW)/dpa-$(EXP).conf,
# scores the test split and writes the AUROC:
#   $(WORK)/nih/$(VIEW)/dpa-$(EXP)/{model.ts,loss.tsv,samples/,scores.tsv,roc.png}
#   $(WORK)/nih/results/$(VIEW)-dpa-$(EXP).tsv       (auroc --format tsv)
# Rerunning resumes an interrupted training from its checkpoint. The paper's
# configurations use torchvision's full VGG19 (vgg19-dcbb9e9d.pth, in
# $(ADKIT_WEIGHTS), ./weights or ../shared/weights). nih-demo runs all of it
# on a synthetic download with pipelines/configs/nih/dpa-demo.conf (a short
# schedule, the normalised VGG19 prefix).

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

# ---- DPA: train, score, AUROC ----

EXP ?= wo_pg
NIH_DPA_CONF ?= pipelines/configs/nih/$(VIEW)/dpa-$(EXP).conf
NIH_DPA = $(NIH_OUT)/dpa-$(EXP)
NIH_RESULTS = $(WORK)/nih/results/$(VIEW)-dpa-$(EXP).tsv
# Extra ad-train flags, e.g. "--iters 200 --batch-size 16".
NIH_TRAIN_FLAGS ?=
# The perceptual network the config asks for (its `vgg` key).
NIH_VGG = $(strip $(if $(filter vgg19-normalised,$(shell awk '$$1 == "vgg" { print $$3 }' $(NIH_DPA_CONF) 2>/dev/null)),\
  vgg19-normalised-conv3_1.pth,vgg19-dcbb9e9d.pth))
NIH_WEIGHTS = $(firstword $(wildcard $(addsuffix /$(NIH_VGG),$(ADKIT_WEIGHTS) weights ../shared/weights)))
# The paper's AUROC (Shvetsova et al. 2021), where this file knows it.
NIH_PAPER = $(if $(filter subset/wo_pg,$(VIEW)/$(EXP)),0.920)

.PHONY: nih-dpa nih-weights

nih-dpa: nih-streams $(NIH_RESULTS)
	@echo "nih: DPA $(EXP), view $(VIEW): AUROC $$(awk -F'\t' 'NR == 2 { print $$5 }' $(NIH_RESULTS))$(if $(NIH_PAPER), (paper: $(NIH_PAPER)))"
	@echo "  results $(NIH_RESULTS), scores $(NIH_DPA)/scores.tsv, ROC $(NIH_DPA)/roc.png"

nih-weights:
	@if [ ! -f "$(NIH_DPA_CONF)" ]; then \
	  echo "nih: no configuration $(NIH_DPA_CONF) (EXP=wo_pg or pg)" >&2; exit 1; fi
	@if [ -z "$(NIH_WEIGHTS)" ]; then \
	  echo "nih: $(NIH_DPA_CONF) needs the perceptual network's weights $(NIH_VGG)." >&2; \
	  if [ "$(NIH_VGG)" = vgg19-dcbb9e9d.pth ]; then \
	    echo "  Download torchvision's VGG19 https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" >&2; \
	  else echo "  Run: make weights" >&2; fi; \
	  echo "  and put it in ./weights/ (or in a folder named by ADKIT_WEIGHTS=FOLDER)." >&2; exit 1; fi

# Resumes from the checkpoint an interrupted run left beside the model.
$(NIH_DPA)/model.ts: $(NIH_TRAIN_TS) $(NIH_DPA_CONF) | nih-weights bin/ad-train
	@mkdir -p $(@D)
	@if [ -f $(@D)/model.ckpt.ts ]; then resume=--resume; else resume=; rm -f $(@D)/loss.tsv; fi; \
	cmd="bin/ad-train -j $(NIH_JOBS) --config $(NIH_DPA_CONF) $(NIH_TRAIN_FLAGS) --weights $(NIH_WEIGHTS) $$resume \
	--log $(@D)/loss.tsv --samples $(@D)/samples -o $@ $<"; echo $$cmd; $$cmd

$(NIH_DPA)/scores.tsv: $(NIH_DPA)/model.ts $(NIH_TEST_TS) | nih-weights bin/ad-score
	bin/ad-score -j $(NIH_JOBS) --weights $(NIH_WEIGHTS) -o $@ $^

$(NIH_RESULTS): $(NIH_DPA)/scores.tsv | bin/auroc
	@mkdir -p $(@D)
	bin/auroc --format tsv --roc $(<D)/roc.png $< > $@.tmp && mv $@.tmp $@

# ---- the demo ----

# A synthetic download (NIH_DEMO_COUNT images of 256x256, both views, a few
# 16-bit and RGBA files), to try the pipeline; Data_Entry_2017.csv is
# written last.
NIH_DEMO_COUNT ?= 300
NIH_DEMO_TRAIN_FLAGS ?=
nih-demo-data: $(NIH_DEMO)/Data_Entry_2017.csv
$(NIH_DEMO)/Data_Entry_2017.csv: | build/gen/gen-nih
	build/gen/gen-nih -o $(NIH_DEMO) --count $(NIH_DEMO_COUNT) --size 256 --seed 1

# The whole pipeline on it: resize, PA split, DPA (pipelines/configs/nih/
# dpa-demo.conf: short, the normalised VGG19 prefix), AUROC.
nih-demo: nih-demo-data
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory nih-dpa NIH=$(NIH_DEMO) WORK=$(WORK)/demo VIEW=PA EXP=demo \
	  NIH_DPA_CONF=pipelines/configs/nih/dpa-demo.conf NIH_TRAIN_FLAGS="$(NIH_DEMO_TRAIN_FLAGS)" && \
	echo "nih-demo: $(NIH_DEMO_COUNT) synthetic chest X-rays (gen-nih), view PA, DPA with" && \
	echo "  pipelines/configs/nih/dpa-demo.conf: a short schedule and the normalised VGG19 prefix" && \
	echo "  (taps up to r31; the paper's r32/r42 need torchvision's vgg19-dcbb9e9d.pth), done in $$(( $$(date +%s) - start )) s." && \
	echo "  AUROC:  $$(awk -F'\t' 'NR == 2 { print $$5 }' $(WORK)/demo/nih/results/PA-dpa-demo.tsv)" \
	  "($(WORK)/demo/nih/results/PA-dpa-demo.tsv; the paper's DPA: 0.920 on the real subset)" && \
	echo "  ROC curve: $(WORK)/demo/nih/PA/dpa-demo/roc.png, scores: $(WORK)/demo/nih/PA/dpa-demo/scores.tsv"
