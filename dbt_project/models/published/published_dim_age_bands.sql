{# dim_age_bands as published: reference data and definitions, nothing to control. #}
select * from {{ ref('dim_age_bands') }}
