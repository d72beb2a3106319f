"""Code lists of the national collections, the one place a permitted value is written down.

Contracts check categorical columns against these lists by name (`in_domain`). A list that data has
already been accepted under is never edited: a collection that changes it gets a new list (and a new
contract version), as LFPSE's `physical_harm` and `psychological_harm` sit beside v1's
`degree_of_harm`.
"""

from __future__ import annotations

#: The treatment function codes of the RTT returns (`C_100` ... in NHS England's files, without the
#: prefix here): each code's name, and the specialty of the incident code list it falls under, so that
#: `dim_specialties` holds both lists and groups one by the other.
TREATMENT_FUNCTIONS: dict[str, tuple[str, str]] = {
    "100": ("General surgery", "general_surgery"),
    "101": ("Urology", "general_surgery"),
    "110": ("Trauma and orthopaedics", "trauma_orthopaedics"),
    "120": ("Ear, nose and throat", "general_surgery"),
    "130": ("Ophthalmology", "general_surgery"),
    "140": ("Oral surgery", "general_surgery"),
    "150": ("Neurosurgery", "general_surgery"),
    "160": ("Plastic surgery", "general_surgery"),
    "170": ("Cardiothoracic surgery", "general_surgery"),
    "300": ("General internal medicine", "general_medicine"),
    "301": ("Gastroenterology", "general_medicine"),
    "320": ("Cardiology", "general_medicine"),
    "330": ("Dermatology", "general_medicine"),
    "340": ("Respiratory medicine", "general_medicine"),
    "400": ("Neurology", "general_medicine"),
    "410": ("Rheumatology", "general_medicine"),
    "430": ("Elderly medicine", "elderly_care"),
    "502": ("Gynaecology", "obstetrics"),
    "X02": ("Other - medical services", "general_medicine"),
    "X03": ("Other - mental health services", "mental_health"),
    "X04": ("Other - paediatric services", "paediatrics"),
    "X05": ("Other - surgical services", "general_surgery"),
    "X06": ("Other - other services", "other"),
}

DOMAINS: dict[str, tuple[str, ...]] = {
    # organisations (ODS-like reference)
    "org_level": ("region", "icb", "trust", "site"),
    "org_type": ("region", "icb", "acute", "mental_health", "community", "ambulance", "specialist", "site"),
    "trust_type": ("acute", "mental_health", "community", "ambulance", "specialist"),
    # incidents (LFPSE)
    "event_category": (
        "medication",
        "treatment_procedure",
        "patient_fall",
        "pressure_ulcer",
        "diagnosis_assessment",
        "infection_control",
        "maternity_obstetric",
        "self_harm",
        "access_admission_discharge",
        "infrastructure",
        "other",
    ),
    "degree_of_harm": ("none", "low", "moderate", "severe", "fatal"),
    "physical_harm": ("none", "low", "moderate", "severe", "fatal"),
    "psychological_harm": ("none", "low", "moderate", "severe"),
    "care_setting": (
        "acute_inpatient",
        "emergency_department",
        "maternity",
        "mental_health_inpatient",
        "community",
        "ambulance",
        "outpatient",
    ),
    "service_area": ("acute", "maternity", "mental_health", "community", "ambulance"),
    "location_type": (
        "inpatient_ward",
        "emergency_department",
        "outpatient_clinic",
        "community_location",
        "pre_hospital",
    ),
    "specialty": (
        "general_medicine",
        "general_surgery",
        "trauma_orthopaedics",
        "obstetrics",
        "paediatrics",
        "mental_health",
        "emergency_medicine",
        "elderly_care",
        "other",
    ),
    "patient_age_band": ("0-17", "18-64", "65-74", "75-84", "85+"),
    # patient demographics shared by the audits and the registry
    "sex": ("M", "F"),
    # stroke audit (SSNAP)
    "stroke_type": ("infarction", "haemorrhage"),
    # joint registry (NJR)
    "joint": ("hip", "knee"),
    "revision_reason": (
        "infection",
        "aseptic_loosening",
        "dislocation",
        "pain",
        "periprosthetic_fracture",
        "wear",
    ),
    # PROMs: "Overall, how would you describe the results of your operation?"
    "proms_satisfaction": ("excellent", "very_good", "good", "fair", "poor"),
    # workforce (ESR)
    "staff_group": (
        "nurses_midwives",
        "medical_dental",
        "allied_health",
        "scientific_technical",
        "support_to_clinical",
        "infrastructure_support",
        "ambulance",
    ),
    # bed availability and occupancy (KH03): the sectors beds are counted in
    "ward_type": ("general_acute", "maternity", "mental_illness", "learning_disabilities"),
    # patient experience: the Friends and Family Test's settings and answers (NHS England, from April
    # 2020) and the subject areas of written complaints (KO41a, hospital and community health services)
    "fft_setting": (
        "inpatient",
        "emergency_department",
        "outpatient",
        "maternity_birth",
        "community",
        "mental_health",
    ),
    "complaint_subject": (
        "access_to_treatment_or_drugs",
        "admissions_discharge_transfers",
        "appointments",
        "clinical_treatment",
        "commissioning",
        "communications",
        "consent",
        "end_of_life_care",
        "facilities",
        "integrated_care",
        "mortuary",
        "patient_care",
        "prescribing",
        "privacy_dignity_wellbeing",
        "staff_numbers",
        "transport",
        "trust_administration",
        "values_and_behaviours",
        "waiting_times",
        "other",
    ),
    # consultant-led referral to treatment (RTT) waiting times: the treatment function (specialty)
    # codes of the RTT returns, and the kinds of pathway they count
    "treatment_function": tuple(TREATMENT_FUNCTIONS),
    "rtt_pathway_type": ("incomplete", "completed_admitted", "completed_non_admitted"),
    # maternity (MSDS): the NHS Data Dictionary's ethnic category (2001 census), Z not stated, 99 not known
    "ethnic_category": (
        "A",
        "B",
        "C",
        "D",
        "E",
        "F",
        "G",
        "H",
        "J",
        "K",
        "L",
        "M",
        "N",
        "P",
        "R",
        "S",
        "Z",
        "99",
    ),
    "delivery_mode": ("spontaneous_vaginal", "instrumental", "planned_caesarean", "emergency_caesarean"),
    "birth_outcome": ("live_birth", "stillbirth"),
    "perineal_trauma": ("none", "first_degree", "second_degree", "third_degree", "fourth_degree"),
    # organisations v2: local authorities join the reference (ONS codes), with their kind of council
    "org_level_v2": ("region", "icb", "trust", "site", "local_authority"),
    "org_type_v2": (
        "region",
        "icb",
        "acute",
        "mental_health",
        "community",
        "ambulance",
        "specialist",
        "site",
        "county",
        "metropolitan_district",
        "london_borough",
        "unitary_authority",
    ),
    "local_authority_type": ("county", "metropolitan_district", "london_borough", "unitary_authority"),
    # adult social care outcomes (ASCOF): the measures the return carries, by ASCOF identifier
    # (2B1: older people still at home 91 days after discharge into reablement; 3A: overall
    # satisfaction of people who use services, from the Adult Social Care Survey)
    "ascof_measure": ("2B1", "3A"),
    # personalised care: the interventions the return counts people for
    "personalised_care_intervention": ("care_and_support_plan", "personal_health_budget"),
}
