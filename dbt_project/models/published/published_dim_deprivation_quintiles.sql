{# dim_deprivation_quintiles as published: reference data and definitions, nothing to control. #}
select * from {{ ref('dim_deprivation_quintiles') }}
