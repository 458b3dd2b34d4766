with

source as (

    select * from {{ source('catalog', 'stores') }}

),

renamed as (

    select
        store_id,
        name as store_name,
        city,
        district,
        timezone,
        cast(open_hour as integer) as open_hour,
        cast(close_hour as integer) as close_hour,
        cast(restricted_from_hour as integer) as restricted_from_hour,
        cast(restricted_until_hour as integer) as restricted_until_hour,
        width_m,
        depth_m,
        area_m2,
        mirrored as is_mirrored,
        string_split(categories, ',') as categories,

    from source

)

select * from renamed
