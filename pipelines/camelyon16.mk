# Camelyon16 preprocessing (the original's scripts 1-4): one patch stream per
# slide, so an interrupted run resumes where it stopped and `make -j N`
# works on N slides at once.
#
#   make camelyon16-patches CAMELYON16=/data/camelyon16_original [WORK=work] [SPLITS=folds]
#
# CAMELYON16 is the unpacked challenge data: training/{normal,tumor,
# lesion_annotations} and testing/{images,lesion_annotations,reference.csv}.
# Output: $(WORK)/camelyon16/patches/{train,test}/{normal,tumor}/<slide>.ts,
# each a stream of u8 (3,768,768) patches (see slide2patches --help).
# Without SPLITS, every slide gets up to 50 patches drawn with C16_SEED;
# with SPLITS=<folder like ../shared/folds> the patches named in
# SPLITS/train_test_split/camelyon16/healthy/{normal,anomaly}/{train,test}
# are cut instead (the paper's exact patch set).
# camelyon16-splits then gathers them into the paper's split at x40, before
# stain normalisation and rescaling (later stages):
#   $(WORK)/camelyon16/x40/train.ts   normal/train (normal training slides)
#   $(WORK)/camelyon16/x40/test.ts    normal/test + anomaly/test (test slides)
#   $(WORK)/camelyon16/x40/anomaly-train.ts  anomaly/train (tumour training
#                                     slides, the pool for validation classes)
# Slides the original leaves out are left out here too (spec camelyon16.md
# 5, 6): six normal training slides and test_114; it is fine if they are
# missing from CAMELYON16.
#
# The later stages (spec camelyon16.md 7-11, dpa-piad.md 9.1), one file per
# slide so that `make -j` parallelises and an interrupted run resumes:
#   $(WORK)/camelyon16/stain_target.txt   the stain target, fitted once
#       (stainnorm --fit-only) on the paper's crop of normal_056 (spec 7);
#       when normal_056.tif is not in CAMELYON16 (a subset of the data, the
#       demo), on the first patch of the first normal training slide, or on
#       C16_STAIN_IMAGE=<image> when set.
#   $(WORK)/camelyon16/norm/<same path as patches/>  stain-normalised (C16_STAIN_METHOD)
#   $(WORK)/camelyon16/x10/<same path>    shrunk 4x (patch-rescale, 768 -> 192)
#   $(WORK)/camelyon16/x10/train.ts       normal training patches (label 0)
#   $(WORK)/camelyon16/x10/test.ts        normal test (label 0) + tumour test (label 1)
#   make camelyon16-x20                   also the x20 versions (384), not used by DPA
# The original saved JPEG (q75) after each stage; the streams here are
# lossless, so pixels differ from the original's by its JPEG noise.
# Then camelyon16-dpa trains DPA (EXP=wo_pg, the default, or pg; config
# pipelines/configs/camelyon16/dpa-$(EXP).conf), scores the test split and
# writes the AUROC:
#   $(WORK)/camelyon16/dpa-$(EXP)/{model.ts,loss.tsv,samples/,scores.tsv,roc.png}
#   $(WORK)/camelyon16/results/dpa-$(EXP).tsv     (auroc --format tsv)
# and a heat map of the patch scores of one test slide is one target away:
#   make $(WORK)/camelyon16/dpa-wo_pg/heatmaps/test_001.png CAMELYON16=...
# The paper's configurations use torchvision's full VGG19 (tap r42):
# vgg19-dcbb9e9d.pth in $(ADKIT_WEIGHTS), ./weights or ../shared/weights.
#
#   make camelyon16-demo      the same rules on seven generated slides, a
#                             short schedule and the normalised VGG19
#                             prefix; ends with an AUROC and a heat map

WORK ?= work
CAMELYON16 ?=
SPLITS ?=
C16_SEED ?= 0
# Mask level and patch side follow from each other (patch = 3 x 2^level);
# the paper's level is 8. Smaller levels exist for tests on small slides.
C16_LEVEL ?= 8
# Threads per slide2patches run; with `make -j N` set C16_JOBS=1.
C16_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
C16_OUT := $(WORK)/camelyon16/patches
C16_EXCLUDED := normal_027 normal_045 normal_108 normal_144 normal_150 normal_158 test_114
C16_SPLIT_DIR := $(SPLITS)/train_test_split/camelyon16/healthy
C16_TOOL := bin/slide2patches
# Patches per slide when sampling (the paper's 50; tests use fewer).
C16_MAX_PATCHES ?= 50
C16_FLAGS = --level $(C16_LEVEL) --seed $(C16_SEED) -j $(C16_JOBS) $(if $(SPLITS),,-n $(C16_MAX_PATCHES))

c16_names = $(filter-out $(C16_EXCLUDED),$(basename $(notdir $(wildcard $(CAMELYON16)/$(1)/*.tif))))
c16_reference = $(if $(CAMELYON16),$(shell awk -F, '$$2 == "$(1)" { print $$1 }' \
  $(CAMELYON16)/testing/reference.csv 2>/dev/null))
C16_TRAIN_NORMAL := $(call c16_names,training/normal)
C16_TRAIN_TUMOR := $(call c16_names,training/tumor)
C16_TEST_NORMAL := $(filter-out $(C16_EXCLUDED),$(call c16_reference,Normal))
C16_TEST_TUMOR := $(filter-out $(C16_EXCLUDED),$(call c16_reference,Tumor))
C16_PATCHES := $(C16_TRAIN_NORMAL:%=$(C16_OUT)/train/normal/%.ts) $(C16_TRAIN_TUMOR:%=$(C16_OUT)/train/tumor/%.ts) \
  $(C16_TEST_NORMAL:%=$(C16_OUT)/test/normal/%.ts) $(C16_TEST_TUMOR:%=$(C16_OUT)/test/tumor/%.ts)

C16_X40 := $(WORK)/camelyon16/x40
C16_SELECT := bin/ad-select

.PHONY: camelyon16-patches camelyon16-splits camelyon16-check camelyon16-dpa

camelyon16-splits: camelyon16-patches $(C16_X40)/train.ts $(C16_X40)/test.ts $(C16_X40)/anomaly-train.ts

# Each split is the concatenation of its slides' streams, written atomically.
$(C16_X40)/train.ts: $(filter $(C16_OUT)/train/normal/%,$(C16_PATCHES)) | $(C16_SELECT)
	@mkdir -p $(@D)
	$(C16_SELECT) -o $@ $^ </dev/null
$(C16_X40)/test.ts: $(filter $(C16_OUT)/test/%,$(C16_PATCHES)) | $(C16_SELECT)
	@mkdir -p $(@D)
	$(C16_SELECT) -o $@ $^ </dev/null
$(C16_X40)/anomaly-train.ts: $(filter $(C16_OUT)/train/tumor/%,$(C16_PATCHES)) | $(C16_SELECT)
	@mkdir -p $(@D)
	$(C16_SELECT) -o $@ $^ </dev/null

camelyon16-patches: camelyon16-check $(C16_PATCHES)
	@echo "camelyon16: $(words $(C16_PATCHES)) slides cut into patches under $(C16_OUT)"

camelyon16-check:
	@for d in training/normal training/tumor training/lesion_annotations testing/images \
	  testing/lesion_annotations testing/reference.csv; do \
	  if [ -z "$(CAMELYON16)" ] || [ ! -e "$(CAMELYON16)/$$d" ]; then \
	    echo "camelyon16: $(if $(CAMELYON16),$(CAMELYON16)/$$d is missing,CAMELYON16 is not set)." >&2; \
	    echo "  Download CAMELYON16 (https://camelyon17.grand-challenge.org/Data/, the CAMELYON16 folder)" >&2; \
	    echo "  and run: make camelyon16-dpa CAMELYON16=<folder with training/{normal,tumor,lesion_annotations}" >&2; \
	    echo "  and testing/{images,lesion_annotations,reference.csv}>" >&2; \
	    exit 1; fi; done
	@if [ -n "$(SPLITS)" ] && [ ! -d "$(C16_SPLIT_DIR)" ]; then \
	  echo "camelyon16: SPLITS=$(SPLITS) has no train_test_split/camelyon16/healthy folder" >&2; exit 1; fi

# $(call c16_cut,SLIDE,TYPE,LIST,EXTRA): one slide's stream; LIST is the split
# list that names its patches when SPLITS is set.
c16_cut = $(if $(SPLITS),grep -E '^$(notdir $(basename $(1)))_[a-z]+_x_' $(3) | \
  $(C16_TOOL) $(C16_FLAGS) --ids - -o $@ $(1),$(C16_TOOL) $(C16_FLAGS) -t $(2) $(4) -o $@ $(1))

$(C16_OUT)/train/normal/%.ts: $(CAMELYON16)/training/normal/%.tif | $(C16_TOOL)
	@mkdir -p $(@D)
	$(call c16_cut,$<,normal,$(C16_SPLIT_DIR)/normal/train)
$(C16_OUT)/test/normal/%.ts: $(CAMELYON16)/testing/images/%.tif | $(C16_TOOL)
	@mkdir -p $(@D)
	$(call c16_cut,$<,normal,$(C16_SPLIT_DIR)/normal/test)
$(C16_OUT)/train/tumor/%.ts: $(CAMELYON16)/training/tumor/%.tif $(CAMELYON16)/training/lesion_annotations/%.xml | $(C16_TOOL)
	@mkdir -p $(@D)
	$(call c16_cut,$<,tumor,$(C16_SPLIT_DIR)/anomaly/train,-a $(word 2,$^))
$(C16_OUT)/test/tumor/%.ts: $(CAMELYON16)/testing/images/%.tif $(CAMELYON16)/testing/lesion_annotations/%.xml | $(C16_TOOL)
	@mkdir -p $(@D)
	$(call c16_cut,$<,tumor,$(C16_SPLIT_DIR)/anomaly/test,-a $(word 2,$^))

# ---- stain target, stain normalisation, x10 (x20), the x10 split ----

C16_STAIN := $(WORK)/camelyon16/stain_target.txt
C16_STAIN_METHOD ?= vahadane
C16_STAIN_IMAGE ?=
C16_STAIN_SLIDE := $(CAMELYON16)/training/normal/normal_056.tif
# The paper's crop of normal_056 (spec 7; x = column, y = row as OpenSlide counts).
C16_STAIN_REGION := 23808,120832,2816,2816
C16_STAIN_FALLBACK := $(CAMELYON16)/training/normal/$(firstword $(C16_TRAIN_NORMAL)).tif
C16_NORM := $(WORK)/camelyon16/norm
C16_X10 := $(WORK)/camelyon16/x10
C16_X20 := $(WORK)/camelyon16/x20
# Shrink factor of the "x10" stage: 4 (768 -> 192) as the paper. Tests on
# small generated slides set 2.
C16_X10_FACTOR ?= 4
C16_NORMED := $(C16_PATCHES:$(C16_OUT)/%=$(C16_NORM)/%)
C16_X10_SLIDES := $(C16_PATCHES:$(C16_OUT)/%=$(C16_X10)/%)
C16_X20_SLIDES := $(C16_PATCHES:$(C16_OUT)/%=$(C16_X20)/%)

.PHONY: camelyon16-stain camelyon16-x10 camelyon16-x20 camelyon16-weights camelyon16-demo camelyon16-demo-data

camelyon16-stain: camelyon16-patches $(C16_NORMED)
camelyon16-x10: camelyon16-patches $(C16_X10)/train.ts $(C16_X10)/test.ts
camelyon16-x20: camelyon16-patches $(C16_X20_SLIDES)
# Kept when made on the way to the splits, so that a rerun resumes.
.SECONDARY: $(C16_NORMED) $(C16_X10_SLIDES) $(C16_X20_SLIDES)

# Fitted once. AMBIGUOUS: the paper fits on a fixed crop of normal_056; a
# copy of the data without that slide gets the first patch slide2patches
# picks on the first normal training slide (same --level and --seed as the
# patches), which is tissue by construction. C16_STAIN_IMAGE overrides both.
$(C16_STAIN): | camelyon16-check bin/stainnorm $(C16_TOOL)
	@mkdir -p $(@D)
	@if [ -n "$(C16_STAIN_IMAGE)" ]; then \
	  echo "bin/stainnorm -m $(C16_STAIN_METHOD) --target $(C16_STAIN_IMAGE) --fit-only -o $@"; \
	  bin/stainnorm -m $(C16_STAIN_METHOD) --target $(C16_STAIN_IMAGE) --fit-only -o $@; \
	elif [ -f "$(C16_STAIN_SLIDE)" ]; then \
	  echo "bin/stainnorm -m $(C16_STAIN_METHOD) --target-slide $(C16_STAIN_SLIDE) --target-region $(C16_STAIN_REGION) --fit-only -o $@"; \
	  bin/stainnorm -m $(C16_STAIN_METHOD) --target-slide $(C16_STAIN_SLIDE) --target-region $(C16_STAIN_REGION) \
	    --fit-only -o $@; \
	else \
	  id=$$($(C16_TOOL) --level $(C16_LEVEL) --seed $(C16_SEED) -n 1 --list $(C16_STAIN_FALLBACK)) && [ -n "$$id" ] || { \
	    echo "camelyon16: no tissue patch on $(C16_STAIN_FALLBACK) to fit the stain target on" >&2; exit 1; }; \
	  region=$$(echo "$$id" | awk -F_ '{ for (i = 1; i < NF; i++) v[$$i] = $$(i + 1); print v["y"] "," v["x"] "," v["w"] "," v["h"] }'); \
	  echo "camelyon16: $(C16_STAIN_SLIDE) is missing: stain target fitted on patch $$id instead"; \
	  echo "bin/stainnorm -m $(C16_STAIN_METHOD) --target-slide $(C16_STAIN_FALLBACK) --target-region $$region --fit-only -o $@"; \
	  bin/stainnorm -m $(C16_STAIN_METHOD) --target-slide $(C16_STAIN_FALLBACK) --target-region $$region --fit-only -o $@; \
	fi

$(C16_NORM)/%.ts: $(C16_OUT)/%.ts $(C16_STAIN) | bin/stainnorm
	@mkdir -p $(@D)
	bin/stainnorm --target-stain $(C16_STAIN) -j $(C16_JOBS) -o $@ $<

$(C16_X10)/%.ts: $(C16_NORM)/%.ts | bin/patch-rescale
	@mkdir -p $(@D)
	bin/patch-rescale --factor $(C16_X10_FACTOR) -j $(C16_JOBS) -o $@ $<

$(C16_X20)/%.ts: $(C16_NORM)/%.ts | bin/patch-rescale
	@mkdir -p $(@D)
	bin/patch-rescale --factor $$(( $(C16_X10_FACTOR) / 2 )) -j $(C16_JOBS) -o $@ $<

# The split of the paper's final configs (spec 9): train on normal/train,
# test on normal/test (label 0) + anomaly/test (label 1).
$(C16_X10)/train.ts: $(filter $(C16_X10)/train/normal/%,$(C16_X10_SLIDES)) | camelyon16-check $(C16_SELECT)
	@mkdir -p $(@D)
	$(C16_SELECT) -o $@ $^ </dev/null
$(C16_X10)/test.ts: $(filter $(C16_X10)/test/%,$(C16_X10_SLIDES)) | camelyon16-check $(C16_SELECT)
	@mkdir -p $(@D)
	$(C16_SELECT) -o $@ $^ </dev/null

# ---- DPA: train, score, AUROC ----

EXP ?= wo_pg
C16_DPA_CONF ?= pipelines/configs/camelyon16/dpa-$(EXP).conf
C16_DPA := $(WORK)/camelyon16/dpa-$(EXP)
C16_RESULTS := $(WORK)/camelyon16/results/dpa-$(EXP).tsv
# Extra ad-train flags, e.g. "--iters 200 --batch-size 16".
C16_TRAIN_FLAGS ?=
# The perceptual network the config asks for (its `vgg` key).
C16_VGG := $(strip $(if $(filter vgg19-normalised,$(shell awk '$$1 == "vgg" { print $$3 }' $(C16_DPA_CONF) 2>/dev/null)),\
  vgg19-normalised-conv3_1.pth,vgg19-dcbb9e9d.pth))
C16_WEIGHTS := $(firstword $(wildcard $(addsuffix /$(C16_VGG),$(ADKIT_WEIGHTS) weights ../shared/weights)))

camelyon16-dpa: camelyon16-patches $(C16_RESULTS)
	@echo "camelyon16: DPA $(EXP) on $(words $(C16_TEST_NORMAL)) normal + $(words $(C16_TEST_TUMOR)) tumour test slides:" \
	  "AUROC $$(awk -F'\t' 'NR == 2 { print $$5 }' $(C16_RESULTS))"
	@echo "  results $(C16_RESULTS), scores $(C16_DPA)/scores.tsv, ROC $(C16_DPA)/roc.png"

camelyon16-weights:
	@if [ ! -f "$(C16_DPA_CONF)" ]; then \
	  echo "camelyon16: no configuration $(C16_DPA_CONF) (EXP=wo_pg or pg)" >&2; exit 1; fi
	@if [ -z "$(C16_WEIGHTS)" ]; then \
	  echo "camelyon16: $(C16_DPA_CONF) needs the perceptual network's weights $(C16_VGG)." >&2; \
	  if [ "$(C16_VGG)" = vgg19-dcbb9e9d.pth ]; then \
	    echo "  Download torchvision's VGG19 https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" >&2; \
	  else echo "  Run: make weights" >&2; fi; \
	  echo "  and put it in ./weights/ (or in a folder named by ADKIT_WEIGHTS=FOLDER)." >&2; exit 1; fi

# Resumes from the checkpoint an interrupted run left beside the model.
$(C16_DPA)/model.ts: $(C16_X10)/train.ts $(C16_DPA_CONF) | camelyon16-check camelyon16-weights bin/ad-train
	@mkdir -p $(@D)
	@if [ -f $(@D)/model.ckpt.ts ]; then resume=--resume; else resume=; rm -f $(@D)/loss.tsv; fi; \
	cmd="bin/ad-train -j $(C16_JOBS) --config $(C16_DPA_CONF) $(C16_TRAIN_FLAGS) --weights $(C16_WEIGHTS) $$resume \
	--log $(@D)/loss.tsv --samples $(@D)/samples -o $@ $<"; echo $$cmd; $$cmd

$(C16_DPA)/scores.tsv: $(C16_DPA)/model.ts $(C16_X10)/test.ts | camelyon16-weights bin/ad-score
	bin/ad-score -j $(C16_JOBS) --weights $(C16_WEIGHTS) -o $@ $^

$(C16_RESULTS): $(C16_DPA)/scores.tsv | bin/auroc
	@mkdir -p $(@D)
	bin/auroc --format tsv --roc $(C16_DPA)/roc.png $< > $@.tmp && mv $@.tmp $@

# One test slide's patch scores over its thumbnail.
$(C16_DPA)/heatmaps/%.png: $(C16_DPA)/scores.tsv | bin/slide-heatmap
	@mkdir -p $(@D)
	bin/slide-heatmap --legend -o $@ $(CAMELYON16)/testing/images/$*.tif $<

# ---- the demo: the rules above on generated slides ----

C16_DEMO := $(WORK)/camelyon16-demo
C16_DEMO_DATA := $(C16_DEMO)/CAMELYON16
# Level 7 (patches of 384 px at level 0, 96 px at x10) instead of the
# paper's 8 (768 px): generated slides four times smaller, the same code.
C16_DEMO_LEVEL ?= 7
C16_DEMO_SIZE ?= 96x84
C16_DEMO_TRAIN_FLAGS ?=
C16_DEMO_HEATMAP := $(C16_DEMO)/camelyon16/dpa-demo/heatmaps/test_001.png

camelyon16-demo-data: $(C16_DEMO_DATA)/testing/reference.csv

# Laid out like the challenge's folder: 2 normal and 1 tumour training
# slides, 2 tumour and 2 normal test slides; reference.csv last.
$(C16_DEMO_DATA)/testing/reference.csv: | build/gen/gen-slide
	@mkdir -p $(C16_DEMO_DATA)/training/{normal,tumor,lesion_annotations} $(C16_DEMO_DATA)/testing/{images,lesion_annotations}
	@g() { echo "gen-slide $$*"; build/gen/gen-slide --mask-level $(C16_DEMO_LEVEL) --size $(C16_DEMO_SIZE) "$$@"; }; \
	d=$(C16_DEMO_DATA); \
	g --seed 11 $$d/training/normal/normal_001.tif && \
	g --seed 12 $$d/training/normal/normal_002.tif && \
	g --seed 13 --xml $$d/training/lesion_annotations/tumor_001.xml $$d/training/tumor/tumor_001.tif && \
	g --seed 21 --xml $$d/testing/lesion_annotations/test_001.xml $$d/testing/images/test_001.tif && \
	g --seed 22 --xml $$d/testing/lesion_annotations/test_002.xml $$d/testing/images/test_002.tif && \
	g --seed 23 $$d/testing/images/test_003.tif && \
	g --seed 24 $$d/testing/images/test_004.tif
	printf 'test_001,Tumor,Macro\ntest_002,Tumor,Macro\ntest_003,Normal,None\ntest_004,Normal,None\n' > $@.tmp
	@mv $@.tmp $@

camelyon16-demo: camelyon16-demo-data
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory camelyon16-dpa $(C16_DEMO_HEATMAP) CAMELYON16=$(C16_DEMO_DATA) WORK=$(C16_DEMO) \
	  C16_LEVEL=$(C16_DEMO_LEVEL) EXP=demo C16_TRAIN_FLAGS="$(C16_DEMO_TRAIN_FLAGS)" && \
	patch=$$(( 3 << $(C16_DEMO_LEVEL) )); \
	echo "camelyon16-demo: 7 generated slides (level $(C16_DEMO_LEVEL): $$patch-px patches, $$(( patch / $(C16_X10_FACTOR) )) px at x10), DPA with" && \
	echo "  pipelines/configs/camelyon16/dpa-demo.conf: a short schedule and the normalised VGG19 prefix" && \
	echo "  (taps up to r31; the paper's r42 needs torchvision's vgg19-dcbb9e9d.pth), done in $$(( $$(date +%s) - start )) s." && \
	echo "  AUROC:     $$(awk -F'\t' 'NR == 2 { print $$5 }' $(C16_DEMO)/camelyon16/results/dpa-demo.tsv)" \
	  "($(C16_DEMO)/camelyon16/results/dpa-demo.tsv)" && \
	echo "  heat map:  $(C16_DEMO_HEATMAP) (patch scores over test_001)" && \
	echo "  ROC curve: $(C16_DEMO)/camelyon16/dpa-demo/roc.png" && \
	echo "  scores:    $(C16_DEMO)/camelyon16/dpa-demo/scores.tsv"
