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
C16_FLAGS = --level $(C16_LEVEL) --seed $(C16_SEED) -j $(C16_JOBS)

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
camelyon16-dpa: camelyon16-splits

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
