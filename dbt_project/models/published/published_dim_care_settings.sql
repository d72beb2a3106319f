{# dim_care_settings as published: reference data and definitions, nothing to control. #}
select * from {{ ref('dim_care_settings') }}
