"""General medical language: lay terms, abbreviations and spelling variants.

This is a maintained list of general vocabulary, the kind a medical dictionary holds. No
entry names a particular trial or answers a particular question: the values the records
hold (conditions, MeSH terms, sponsors, countries, interventions, acronyms) come from the
index itself (`vocab.py`). Each entry maps a phrase a person may type to the phrases a
registry record uses; matching is by word prefixes, so "neoplasm" covers "neoplasms".
"""

from __future__ import annotations

import re

#: lay phrase or abbreviation -> registry phrases (any of them)
LAY: dict[str, tuple[str, ...]] = {
    # cancer and tumours
    "cancer": ("cancer", "neoplasm", "tumor", "tumour", "carcinoma", "malignan", "oncolog"),
    "tumor": ("tumor", "tumour", "neoplasm"),
    "tumour": ("tumor", "tumour", "neoplasm"),
    "blood cancer": ("leukemia", "leukaemia", "lymphoma", "myeloma", "hematologic malignan"),
    "skin cancer": ("melanoma", "skin neoplasm", "basal cell carcinoma", "squamous cell carcinoma"),
    "nsclc": ("non-small cell lung", "non small cell lung"),
    "sclc": ("small cell lung",),
    "crc": ("colorectal",),
    "hcc": ("hepatocellular",),
    "rcc": ("renal cell",),
    "aml": ("acute myeloid leukemia", "acute myelogenous leukemia"),
    "all": ("acute lymphoblastic leukemia",),
    "cll": ("chronic lymphocytic leukemia",),
    "cml": ("chronic myeloid leukemia", "chronic myelogenous leukemia"),
    "nhl": ("non-hodgkin", "lymphoma, non-hodgkin"),
    "mds": ("myelodysplastic",),
    # heart and vessels
    "heart attack": ("myocardial infarction",),
    "mi": ("myocardial infarction",),
    "chf": ("heart failure",),
    "hf": ("heart failure",),
    "heart failure": ("heart failure", "cardiac failure"),
    "high blood pressure": ("hypertension",),
    "hypertension": ("hypertension",),
    "low blood pressure": ("hypotension",),
    "afib": ("atrial fibrillation",),
    "af": ("atrial fibrillation",),
    "cad": ("coronary artery disease", "coronary disease"),
    "chd": ("coronary heart disease", "coronary disease"),
    "stroke": ("stroke", "cerebrovascular"),
    "tia": ("transient ischemic attack",),
    "dvt": ("deep vein thrombosis", "venous thrombosis"),
    "pe": ("pulmonary embolism",),
    "blood clot": ("thrombosis", "embolism"),
    "blood clots": ("thrombosis", "embolism"),
    "high cholesterol": ("hypercholesterolemia", "hyperlipidemia", "dyslipidemia"),
    "cholesterol": ("cholesterol", "hypercholesterolemia", "hyperlipidemia"),
    "pad": ("peripheral arterial disease", "peripheral artery disease"),
    # metabolism and kidneys
    "diabetes": ("diabetes", "diabetic"),
    "sugar diabetes": ("diabetes",),
    "t1d": ("type 1 diabetes", "diabetes mellitus, type 1"),
    "t2d": ("type 2 diabetes", "diabetes mellitus, type 2"),
    "t2dm": ("type 2 diabetes", "diabetes mellitus, type 2"),
    "dm": ("diabetes mellitus",),
    "high blood sugar": ("hyperglycemia",),
    "low blood sugar": ("hypoglycemia",),
    "obesity": ("obesity", "obese", "overweight"),
    "overweight": ("overweight", "obesity"),
    "ckd": ("chronic kidney disease", "renal insufficiency, chronic", "chronic renal"),
    "esrd": ("end-stage renal", "end stage renal", "kidney failure, chronic"),
    "kidney failure": ("kidney failure", "renal failure", "renal insufficiency"),
    "kidney disease": ("kidney disease", "renal disease", "nephropathy", "renal insufficiency"),
    "kidney stones": ("nephrolithiasis", "kidney calculi", "urolithiasis"),
    "kidney stone": ("nephrolithiasis", "kidney calculi", "urolithiasis"),
    "dialysis": ("dialysis", "hemodialysis", "haemodialysis"),
    "gout": ("gout", "hyperuricemia"),
    "underactive thyroid": ("hypothyroidism",),
    "overactive thyroid": ("hyperthyroidism",),
    # lungs and infections
    "copd": ("chronic obstructive pulmonary", "pulmonary disease, chronic obstructive"),
    "emphysema": ("emphysema",),
    "asthma": ("asthma",),
    "tb": ("tuberculosis",),
    "flu": ("influenza",),
    "the flu": ("influenza",),
    "hiv": ("hiv", "human immunodeficiency virus"),
    "aids": ("acquired immunodeficiency syndrome", "hiv"),
    "hpv": ("papillomavirus", "hpv"),
    "rsv": ("respiratory syncytial virus",),
    "uti": ("urinary tract infection",),
    "covid": ("covid", "sars-cov-2", "coronavirus"),
    "covid-19": ("covid", "sars-cov-2", "coronavirus"),
    "hepatitis c": ("hepatitis c", "hcv"),
    "hepatitis b": ("hepatitis b", "hbv"),
    "hcv": ("hepatitis c", "hcv"),
    "hbv": ("hepatitis b", "hbv"),
    "pneumonia": ("pneumonia",),
    "cf": ("cystic fibrosis",),
    "sleep apnea": ("sleep apnea", "sleep apnoea"),
    "osa": ("obstructive sleep apnea",),
    # gut and liver
    "gerd": ("gastroesophageal reflux", "gastro-oesophageal reflux"),
    "heartburn": ("heartburn", "gastroesophageal reflux"),
    "acid reflux": ("gastroesophageal reflux", "reflux"),
    "ibs": ("irritable bowel",),
    "ibd": ("inflammatory bowel",),
    "crohn's": ("crohn",),
    "uc": ("ulcerative colitis",),
    "nafld": ("non-alcoholic fatty liver", "nonalcoholic fatty liver"),
    "nash": ("nonalcoholic steatohepatitis", "non-alcoholic steatohepatitis"),
    "fatty liver": ("fatty liver",),
    "cirrhosis": ("cirrhosis", "liver cirrhosis"),
    # brain, mind, nerves
    "alzheimer's": ("alzheimer",),
    "dementia": ("dementia", "alzheimer"),
    "parkinson's": ("parkinson",),
    "ms": ("multiple sclerosis",),
    "als": ("amyotrophic lateral sclerosis",),
    "adhd": ("attention deficit",),
    "add": ("attention deficit",),
    "ptsd": ("post-traumatic stress", "posttraumatic stress", "stress disorders, post-traumatic"),
    "ocd": ("obsessive-compulsive", "obsessive compulsive"),
    "depression": ("depression", "depressive"),
    "mdd": ("major depressive",),
    "bipolar": ("bipolar",),
    "anxiety": ("anxiety",),
    "autism": ("autism", "autistic"),
    "asd": ("autism spectrum",),
    "seizures": ("seizure", "epilepsy"),
    "epilepsy": ("epilepsy", "seizure"),
    "migraine": ("migraine",),
    "migraines": ("migraine",),
    "tbi": ("traumatic brain injury", "brain injuries, traumatic"),
    "insomnia": ("insomnia", "sleep initiation and maintenance disorders"),
    "schizophrenia": ("schizophrenia",),
    "alcoholism": ("alcohol use disorder", "alcoholism", "alcohol dependence"),
    "opioid addiction": ("opioid use disorder", "opioid-related disorders", "opioid dependence"),
    "smoking": ("smoking", "tobacco", "nicotine"),
    "quitting smoking": ("smoking cessation", "tobacco use cessation"),
    # bones, joints, skin, eyes
    "ra": ("rheumatoid arthritis",),
    "oa": ("osteoarthritis",),
    "arthritis": ("arthritis",),
    "lupus": ("lupus",),
    "sle": ("systemic lupus erythematosus",),
    "osteoporosis": ("osteoporosis",),
    "brittle bones": ("osteoporosis",),
    "back pain": ("back pain", "low back pain"),
    "eczema": ("eczema", "atopic dermatitis"),
    "psoriasis": ("psoriasis",),
    "acne": ("acne",),
    "amd": ("macular degeneration",),
    "glaucoma": ("glaucoma",),
    "pink eye": ("conjunctivitis",),
    "cataract": ("cataract",),
    # women's, men's and children's health
    "bed-wetting": ("enuresis", "nocturnal enuresis"),
    "bedwetting": ("enuresis", "nocturnal enuresis"),
    "bed wetting": ("enuresis", "nocturnal enuresis"),
    "pcos": ("polycystic ovary",),
    "endometriosis": ("endometriosis",),
    "menopause": ("menopause", "postmenopausal"),
    "hot flashes": ("hot flashes", "hot flushes"),
    "preterm birth": ("preterm", "premature birth"),
    "premature babies": ("premature", "preterm infant"),
    "morning sickness": ("nausea and vomiting of pregnancy", "hyperemesis"),
    "bph": ("prostatic hyperplasia",),
    "enlarged prostate": ("prostatic hyperplasia",),
    "ed": ("erectile dysfunction",),
    "infertility": ("infertility",),
    "sids": ("sudden infant death",),
    # treatments and procedures
    "water pills": ("diuretic", "furosemide", "hydrochlorothiazide", "spironolactone", "torsemide"),
    "water pill": ("diuretic", "furosemide", "hydrochlorothiazide", "spironolactone", "torsemide"),
    "blood thinners": ("anticoagulant", "warfarin", "heparin", "apixaban", "rivaroxaban", "dabigatran"),
    "blood thinner": ("anticoagulant", "warfarin", "heparin", "apixaban", "rivaroxaban", "dabigatran"),
    "statins": ("statin", "atorvastatin", "simvastatin", "rosuvastatin", "pravastatin"),
    "painkillers": ("analgesic", "opioid", "acetaminophen", "ibuprofen"),
    "steroids": ("steroid", "corticosteroid", "prednisone", "dexamethasone", "methylprednisolone"),
    "chemo": ("chemotherapy",),
    "chemotherapy": ("chemotherapy",),
    "radiation": ("radiation", "radiotherapy"),
    "radiotherapy": ("radiotherapy", "radiation"),
    "jab": ("vaccine", "vaccination", "injection"),
    "jabs": ("vaccine", "vaccination", "injection"),
    "shot": ("vaccine", "injection"),
    "shots": ("vaccine", "injection"),
    "vaccine": ("vaccine", "vaccination", "immunization"),
    "flu shot": ("influenza vaccine",),
    "transplant": ("transplant",),
    "stem cells": ("stem cell", "msc", "mesenchymal"),
    "stem cell": ("stem cell", "msc", "mesenchymal"),
    "msc": ("mesenchymal", "msc"),
    "mscs": ("mesenchymal", "msc"),
    "gene therapy": ("gene therapy", "gene transfer"),
    "gene transfer": ("gene transfer", "gene therapy"),
    "surgery": ("surgery", "surgical", "operation"),
    "exercise": ("exercise", "physical activity", "training"),
    "diet": ("diet", "dietary", "nutrition"),
    "placebo": ("placebo",),
    "sugar pill": ("placebo",),
    "dummy pill": ("placebo",),
    "iv": ("intravenous", "infusion", "i.v."),
    "intravenous": ("intravenous", "infusion", "i.v."),
    "by mouth": ("oral", "orally"),
    "oral": ("oral", "orally", "tablet", "capsule"),
    "pill": ("tablet", "capsule", "oral"),
    "pills": ("tablet", "capsule", "oral"),
    "injection": ("injection", "injected", "infusion"),
    "per kg": ("/kg", "per kilogram", "mg/kg"),
    "mg/kg": ("mg/kg", "/kg", "per kilogram"),
    "antibiotics": ("antibiotic", "antibacterial", "antimicrobial"),
    "antidepressants": ("antidepressant", "ssri", "sertraline", "fluoxetine", "escitalopram"),
    "ssri": ("selective serotonin reuptake", "ssri"),
    "nsaid": ("anti-inflammatory", "nsaid", "ibuprofen", "naproxen"),
    "nsaids": ("anti-inflammatory", "nsaid", "ibuprofen", "naproxen"),
    "insulin": ("insulin",),
    "acupuncture": ("acupuncture",),
    "cbt": ("cognitive behavioral therapy", "cognitive behavioural therapy", "cognitive-behavioral"),
    "mri": ("magnetic resonance", "mri"),
    "ct scan": ("computed tomography", "ct"),
    "pet scan": ("positron emission tomography", "pet"),
}

_SPLIT = re.compile(r"[^a-z0-9/'.+-]+")
#: Abbreviations that are also English words: recognised only when written in capitals.
CAPITALS_ONLY = frozenset({"all", "add", "ed", "ms", "pe", "af", "uc", "hf", "ra", "oa", "dm", "mi", "tb",
                           "cf", "mds", "pad", "amd", "sle", "als", "aids", "iv"})


def lay_phrases(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Lexicon entries found in `text` as whole words, longest first, non-overlapping."""
    low = f" {' '.join(_SPLIT.split(text.lower()))} "
    found: list[tuple[str, tuple[str, ...]]] = []
    taken: list[tuple[int, int]] = []
    for phrase in sorted(LAY, key=lambda p: (-len(p), p)):
        if phrase in CAPITALS_ONLY and not re.search(rf"\b{phrase.upper()}\b", text):
            continue
        start = low.find(f" {phrase} ")
        while start >= 0:
            span = (start + 1, start + 1 + len(phrase))
            if not any(a < span[1] and span[0] < b for a, b in taken):
                taken.append(span)
                found.append((phrase, LAY[phrase]))
                break
            start = low.find(f" {phrase} ", start + 1)
    return found
