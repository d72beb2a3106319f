{# dim_staff_groups as published: reference data and definitions, nothing to control. #}
select * from {{ ref('dim_staff_groups') }}
